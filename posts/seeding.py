"""Demo data from the apps above posts: each adds its step to `manage.py seed_demo`.

An app registers a step in its AppConfig.ready() (social: follows). A step has a `name`, adds
its options (`add_arguments(parser)`), creates what is missing once the users, posts and votes
exist (`run(seeder, options)`, returning how many rows it made) and counts its rows (`total()`).
"""

steps: list = []


def register(step) -> None:
    if all(type(known) is not type(step) for known in steps):
        steps.append(step)
