from __future__ import annotations

from django.urls import path

from endpoints.proxy import views

urlpatterns = [
    path("v1/chat/completions", views.chat_completions, name="proxy-chat"),
    path("v1/completions", views.completions, name="proxy-completions"),
    path("v1/embeddings", views.embeddings, name="proxy-embeddings"),
    path("v1/images/generations", views.image_generations, name="proxy-images"),
    path("v1/audio/transcriptions", views.audio_transcriptions, name="proxy-transcriptions"),
    path("v1/audio/speech", views.audio_speech, name="proxy-speech"),
    path("v1/moderations", views.moderations, name="proxy-moderations"),
    path("v1/rerank", views.rerank, name="proxy-rerank"),
    path("v1/messages", views.anthropic_messages, name="proxy-messages"),
    path("v1/models", views.list_models, name="proxy-models"),
    path("gateway/<slug:endpoint_name>/invocations", views.invocations, name="proxy-invocations"),
    path("v1/<path:rest>", views.unknown_route, name="proxy-unknown"),
]
