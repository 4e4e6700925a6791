"""Settings modules.

``base`` reads everything from the environment; ``dev`` is the embedded default (`make run`),
``production`` refuses to start without a real ``SECRET_KEY``, ``test`` is what pytest uses.
"""
