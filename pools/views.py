from django.shortcuts import render


def explorer(request):
    return render(request, "pools/explorer.html")
