from django.urls import path

from . import views

app_name = "ai"
urlpatterns = [
    path("", views.analysis_list, name="analysis_list"),
    path("analyses/<int:pk>/", views.analysis_detail, name="analysis_detail"),
    path("containers/<int:pk>/analyse/", views.analyse_container, name="analyse_container"),
    path("containers/<int:pk>/preview/", views.preview_container, name="preview_container"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation_detail"),
    path("conversations/<int:pk>/send/", views.chat_send, name="chat_send"),
    path("conversations/<int:pk>/rename/", views.conversation_rename, name="conversation_rename"),
    path("conversations/<int:pk>/delete/", views.conversation_delete, name="conversation_delete"),
    path("containers/<int:pk>/chat/", views.chat_start_container, name="chat_start_container"),
    path("alerts/<int:pk>/chat/", views.chat_start_alert, name="chat_start_alert"),
    path("fixes/<int:pk>/approve/", views.approve_fix, name="approve_fix"),
    path("fixes/<int:pk>/reject/", views.reject_fix, name="reject_fix"),
    path("settings/", views.save_settings, name="save_settings"),
]
