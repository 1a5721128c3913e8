print("ringspec")
