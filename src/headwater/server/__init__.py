"""The HTTP shell: a FastAPI app over the Platform facade (see ``app.create_app``)."""
