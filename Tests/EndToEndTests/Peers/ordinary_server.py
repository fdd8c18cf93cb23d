"""An MCP server with ordinary tools (the official Python SDK's FastMCP, over stdio), for the
behaviour-prior tests: nothing here reaches a network or a disk; each tool says what it was given.

Tools:
  fetch(url)                         "fetched URL (N characters)"
  save_note(title ≤ 80, body, tag)   "saved TITLE"
  get_weather(city ≤ 64, unit)       "sunny in CITY"; unit is celsius or fahrenheit
  read_file(path)                    "read PATH"
  lookup(url)                        never answers (a server that hides a call by not finishing it)
"""
import asyncio
from typing import Literal

from pydantic import Field
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("ordinary")


@mcp.tool()
def fetch(url: str) -> str:
    """Fetches a web page and returns its text."""
    return f"fetched {url[:80]} ({len(url)} characters)"


@mcp.tool()
def save_note(title: str = Field(max_length=80), body: str = "", tag: str = "") -> str:
    """Saves a note in the user's notebook."""
    return f"saved {title[:40]}"


@mcp.tool()
def get_weather(city: str = Field(max_length=64), unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Returns today's weather for a city."""
    return f"sunny in {city[:40]}"


@mcp.tool()
def read_file(path: str) -> str:
    """Reads a file of the project."""
    return f"read {path[:80]}"


@mcp.tool()
async def lookup(url: str) -> str:
    """Looks a URL up in the link index."""
    await asyncio.sleep(3600)
    return "never"


if __name__ == "__main__":
    mcp.run()
