"""Every word the platform sends to people, one module per channel (sms, mail), and the keys of its messages.

The use cases decide who is told what and when; the wording lives here, so that it is read, reviewed and
tested in one place (one GSM-7 segment per SMS, never the reason, profession or practitioner's name).
"""
