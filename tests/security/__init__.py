"""Attacks by a learner that must fail (issue 13): what ada can do with her own terminal,
her files and her own server, tried against the real hub; marked ``security``."""
