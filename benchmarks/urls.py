"""The project's URLs plus the baseline view (benchmarks only)."""

from django.urls import path

from project.urls import urlpatterns as project_urlpatterns

from .views import BaselineView

urlpatterns = [path("bench/baseline/", BaselineView.as_view(), name="bench-baseline"), *project_urlpatterns]
