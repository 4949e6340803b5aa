"""`make bench`: figures of the platform on the local replica, side by side with what a user
would otherwise run, written as JSON to bench/results/ and as a table to bench/README.md."""
