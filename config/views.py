from django.shortcuts import redirect, render


def home(request):
    """Visitors see what the product does; signed-in users go to their dashboard."""
    if request.user.is_authenticated:
        return redirect("portfolios:dashboard")
    return render(request, "home.html")
