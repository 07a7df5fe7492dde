"""The framework's ceiling: the most trivial Flask endpoint, served exactly like the app."""

from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping():
    return "ok"
