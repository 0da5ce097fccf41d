"""The CohortLab hub service: a JupyterHub-managed Tornado app at /services/cohortlab/."""
