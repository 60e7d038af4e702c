// One loopback HTTP server: REST under /api/v10, attachment bytes under /attachments and
// /media/attachments, and the gateway WebSocket (upgrade on /gateway).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { sendJson } from './http.js';
import { API_PREFIX } from './rest.js';

export interface ServerHandlers {
  rest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  attachment(req: IncomingMessage, res: ServerResponse, url: URL): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export class FakeServer {
  private readonly server: Server;
  port = 0;

  constructor(handlers: ServerHandlers) {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname.startsWith(`${API_PREFIX}/`)) {
        handlers.rest(req, res, url).catch(() => {
          if (!res.headersSent) sendJson(res, 500, { message: '500: Internal Server Error', code: 0 });
        });
        return;
      }
      if (url.pathname.startsWith('/attachments/') || url.pathname.startsWith('/media/attachments/')) {
        handlers.attachment(req, res, url);
        return;
      }
      req.resume();
      sendJson(res, 404, { message: '404: Not Found', code: 0 });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname.replace(/\/+$/, '') !== '/gateway') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        socket.destroy();
        return;
      }
      handlers.upgrade(req, socket, head);
    });
    // Keep-alive sockets must not hold the process open after close().
    this.server.keepAliveTimeout = 5000;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
