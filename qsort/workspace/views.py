from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in people go to their studies; everyone else sees what qsort is."""
    if request.user.is_authenticated:
        return redirect("/studies/")
    return render(request, "workspace/home.html")
