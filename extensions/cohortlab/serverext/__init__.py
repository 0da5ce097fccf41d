"""The single-user server extension: a same-origin relay to the CohortLab service."""
