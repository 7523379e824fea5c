from django.urls import path

from backbone.core.crud import Column, Crud
from backbone.ecosystem import views
from backbone.ecosystem.forms import NeedIndicatorForm
from backbone.ecosystem.models import NeedIndicator

app_name = "ecosystem"

need_indicators = Crud(
    model=NeedIndicator,
    form_class=NeedIndicatorForm,
    entity="need-indicator",
    prefix="ecosystem/need-indicators",
    title="Need indicators",
    intro="Which indicator measures need for each need category and life stage on the gap "
    "map. Without one, a gap is judged on supply per resident alone.",
    columns=[
        Column("Need category", lambda o: o.category),
        Column("Life stage", views.need_indicator_label),
        Column("Indicator", lambda o: o.indicator.name),
        Column("Better when", lambda o: o.indicator.get_polarity_display().lower()),
    ],
)

P = "n/<slug:network_slug>/ecosystem/"

urlpatterns = [
    path(P, views.map_view, name="map"),
    path(f"{P}gaps/", views.gaps_view, name="gaps"),
    path(f"{P}redundancy/", views.redundancy_view, name="redundancy"),
    path(f"{P}cells.csv", views.cells_export, name="cells-export"),
    *need_indicators.urls("ecosystem"),
    path(f"{P}pathways/", views.pathway_list, name="pathway-list"),
    path(f"{P}pathways/new/", views.pathway_create, name="pathway-create"),
    path(f"{P}pathways/<int:pk>/", views.pathway_detail, name="pathway-detail"),
    path(f"{P}pathways/<int:pk>/edit/", views.pathway_edit, name="pathway-edit"),
    path(f"{P}pathways/<int:pk>/delete/", views.pathway_delete, name="pathway-delete"),
    path(f"{P}pathways/<int:pk>/steps/new/", views.step_create, name="step-create"),
    path(f"{P}steps/<int:pk>/edit/", views.step_edit, name="step-edit"),
    path(f"{P}steps/<int:pk>/delete/", views.step_delete, name="step-delete"),
]
