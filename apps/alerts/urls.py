from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<int:pk>/", views.alert_detail, name="detail"),
    path("<int:pk>/ack/", views.alert_ack, name="ack"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_form, name="rule_create"),
    path("rules/<int:pk>/", views.rule_form, name="rule_edit"),
    path("silences/", views.silence_list, name="silences"),
    path("silences/<int:pk>/expire/", views.silence_expire, name="silence_expire"),
]
