"""The features of conduct-bot: each module owns a router; this is the one list that combines them."""
from __future__ import annotations

from app.dispatch import process_delivery
from app.incidents import run_incident_job, run_nudge_job

from . import block, commands, config_refresh, desk, heat, lock, visibility
from .config_errors import run_config_error_job

ROUTERS = [
    commands.router,        # slash commands in threads
    config_refresh.router,  # pushes that change .github/coc.yml or templates
    desk.router,            # the working group's commands and status in incident issues
    heat.router,            # the heat estimate of every thread; reminders on heated ones
    lock.router,            # a lock changed by hand cancels the bot's automatic unlock
    visibility.router,      # a tracking repository made public is written no more
]

JOBS = {
    "delivery": process_delivery,
    "incident": run_incident_job,
    "nudge": run_nudge_job,
    "unlock": lock.run_unlock_job,
    "unblock": block.run_unblock_job,
    "config_error": run_config_error_job,
}
