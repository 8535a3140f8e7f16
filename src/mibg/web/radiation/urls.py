from django.urls import path

from mibg.web.radiation import views

app_name = "radiation"

urlpatterns = [
    path("courses/<int:pk>/radiation/", views.section, name="section"),
    path("courses/<int:pk>/readings/", views.readings, name="readings"),
    path("courses/<int:pk>/radiation/plot.svg", views.plot_svg, name="plot_svg"),
    path("courses/<int:pk>/radiation/plot.png", views.plot_png, name="plot_png"),
    path("courses/<int:pk>/release/", views.release, name="release"),
    path("courses/<int:pk>/release/instructions/", views.instructions, name="instructions"),
    path("courses/<int:pk>/release/instructions.pdf", views.instructions_pdf, name="instructions_pdf"),
    path("courses/<int:pk>/stem-cells/", views.stem_cells, name="stem_cells"),
    path("stem-cells/<int:pk>/correct/", views.stem_cells_correct, name="stem_cells_correct"),
    path("readings/<int:pk>/correct/", views.correct, name="correct"),
    path("readings/<int:pk>/void/", views.void, name="void"),
]
