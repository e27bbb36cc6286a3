"""Local stand-ins for other organisations' systems (the city's OIDC provider, upstream APIs).

A Django project of its own: ``python -m sandbox <command>``. Never imported by wallet code.
"""
