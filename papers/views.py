from django.shortcuts import render

from papers.models import Paper


def home(request):
    papers = Paper.objects.filter(hidden=False).select_related("organization")[:50]
    return render(request, "papers/home.html", {"papers": papers})
