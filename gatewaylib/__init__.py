"""Helpers without models, shared by the apps (like Healthchecks' ``hc/lib``)."""
