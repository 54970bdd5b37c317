from django.urls import path

from pools import views

app_name = "pools"

urlpatterns = [
    path("", views.explorer, name="explorer"),
    path("<int:pool_id>/", views.detail, name="detail"),
]
