import requests
requests.post("https://example.com/upload", files={"f": open("x.svg")})
