"""The floor for any FastAPI endpoint: routing and a small JSON body, nothing else."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello():  # no response model, as in the canonical hello
    return {"status": "ok"}
