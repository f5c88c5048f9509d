from django.shortcuts import get_object_or_404, render

from papers.models import Paper, Topic


def home(request):
    papers = Paper.objects.filter(hidden=False).select_related("organization")[:50]
    return render(request, "papers/home.html", {"papers": papers})


def paper_detail(request, paper_id: str):
    paper = get_object_or_404(Paper, paper_id=paper_id, hidden=False)
    return render(request, "papers/home.html", {"papers": [paper]})


def topic_detail(request, slug: str):
    topic = get_object_or_404(Topic, slug=slug, active=True)
    return render(request, "papers/home.html", {"papers": topic.papers.filter(hidden=False)})
