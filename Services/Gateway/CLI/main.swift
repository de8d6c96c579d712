print("ocorre")
