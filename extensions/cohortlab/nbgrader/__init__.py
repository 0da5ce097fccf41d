"""nbgrader plug-ins: CohortLab's part in making and releasing a course's assignments.

Registered through nbgrader's own configuration (``nbgrader_config.py``); see
``hub_config/nbgrader_config.py``.
"""
