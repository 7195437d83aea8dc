"""Email: one email per notification for users who ask for it (batched, one SMTP connection per
batch, retried on 4xx, stopped by a bounce), digests, signed one-click unsubscribe and "mark as
read" links. A Django app (inbox.mail.apps.MailConfig, label inbox_mail): its ready() registers
the channel with inbox.delivery and its columns (email, digest) with inbox.kinds."""
