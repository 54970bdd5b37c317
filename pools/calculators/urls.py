from django.urls import path

from pools.calculators import views

app_name = "calculators"

urlpatterns = [
    path("", views.index, name="index"),
    path("impermanent-loss/", views.impermanent_loss, name="impermanent_loss"),
    path("apy/", views.apy, name="apy"),
    path("break-even/", views.break_even, name="break_even"),
]
