"""The floor for bench/load.py: a bare Flask "hello" app, served by the same gunicorn settings
as the wizard (gunicorn.conf.py), so that the wizard's figures can be read as a share of what
Flask and gunicorn alone manage on this machine.
    gunicorn -c gunicorn.conf.py --chdir bench bare_flask:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
