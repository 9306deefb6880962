"""Office hours and call-backs.

``schedule`` computes, as pure functions, whether an office is open and when it opens
next; ``offices`` applies it to a line and its targets; ``callbacks`` schedules the
calls asked for outside the hours and the reminders a caller asks for, which the task
worker places (``clicktocall.placement``).
"""
