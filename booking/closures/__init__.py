"""A site's calendar at work: closing for a day or a period, the holidays it opens, the bookings a closure
cancels, and the page where the référente does it all."""
