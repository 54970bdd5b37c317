from django.urls import path

from education import views

app_name = "education"

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("glossary/", views.glossary, name="glossary"),
    path("glossary/<slug:slug>/", views.term, name="term"),
    path("search/", views.search, name="search"),
]
