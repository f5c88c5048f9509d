from django.urls import path

from papers import archive, feeds, views

urlpatterns = [
    path("", views.home, name="home"),
    path("papers/<path:paper_id>/", views.paper_detail, name="paper"),
    path("archive/", archive.archive, name="archive"),
    path("feeds/trending.atom", feeds.TrendingFeed(), name="feed-trending"),
    path("feeds/topics/<slug:slug>.atom", feeds.TopicFeed(), name="feed-topic"),
    path("feeds/picks/<str:token>.atom", feeds.ReaderFeed(), name="feed"),
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
]
