"""The web console: where contact persons, coordinators and admins see and act on the backlog.

    access.py    who may see and do what (roles, pages, the scope of every query)
    accounts.py  local accounts (argon2) and the limit on sign-in attempts
    http.py      what every page shares: the session, the guard, CSRF, rendering
    signin.py    /login, /logout, OpenID Connect
    pages.py     home, backlog, review, a question's page and its actions
    app.py       the application, its headers and `serve`
"""
