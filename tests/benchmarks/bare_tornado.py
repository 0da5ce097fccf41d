"""The baseline: a bare Tornado JSON handler, the limit of one Python process here."""

import asyncio
import sys

from tornado import web


class Hello(web.RequestHandler):
    def get(self) -> None:
        self.finish({"ok": True})


async def main(port: int) -> None:
    web.Application([(r"/.*", Hello)]).listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
