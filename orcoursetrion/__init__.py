"""Automation kit for provisioning courses for MITx: the /orc Slack bot, the `orcoursetrion`
command line and the action library (a drop-in for orcoursetrion 0.2.1)."""

VERSION = "1.0.0"
__version__ = VERSION
