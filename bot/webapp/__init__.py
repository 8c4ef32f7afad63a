"""The review Mini App (issue 21), core: no aiogram here. The init-data signature check is injected
(bot/telegram/webapp.py); the server, its auth, the diff model and the git actions live here."""
