from django.urls import path

from papers import archive, views

urlpatterns = [
    path("", views.home, name="home"),
    path("papers/<path:paper_id>/", views.paper_detail, name="paper"),
    path("archive/", archive.archive, name="archive"),
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
]
