"""The live-quiz baseline: bare Tornado doing only the transport of a live round.

``POST /answer`` acknowledges with a small JSON body; ``GET /events`` is a WebSocket;
``POST /broadcast`` writes its body to every open socket. The quizzes benchmark drives it
exactly as it drives the service, so the ratio shows what grading, storage, auth and
ranking cost on top of the transport on this machine.
"""

import asyncio
import sys

from tornado import web, websocket

SOCKETS: set[websocket.WebSocketHandler] = set()


class Answer(web.RequestHandler):
    def post(self) -> None:
        self.set_status(201)
        self.finish({"received": True})


class Events(websocket.WebSocketHandler):
    def open(self) -> None:
        SOCKETS.add(self)
        self.write_message('{"type":"hello"}')

    def on_close(self) -> None:
        SOCKETS.discard(self)


class Broadcast(web.RequestHandler):
    def post(self) -> None:
        message = self.request.body.decode()
        for sock in list(SOCKETS):
            try:
                sock.write_message(message)
            except websocket.WebSocketClosedError:
                SOCKETS.discard(sock)
        self.finish({"sent": len(SOCKETS)})


async def main(port: int) -> None:
    app = web.Application([(r"/answer", Answer), (r"/events", Events), (r"/broadcast", Broadcast)])
    app.listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
