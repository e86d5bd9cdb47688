// The kernel's side of an echo transfer (port 7 of the echo app), run inside a namespace with
// python3: N bytes of a fixed pattern sent while the replies are read, then sha256 of both ways
// compared. Prints "<bytes received> True|False". Used by the mps2 tests and make bench.
//   session.exec("python3", ["-c", ECHO_SHA_CLIENT, boardIp, String(n)])
export const ECHO_SHA_CLIENT = `
import hashlib, socket, sys, threading
host, n = sys.argv[1], int(sys.argv[2])
data = bytes((i * 13 + 5) & 255 for i in range(n))
s = socket.create_connection((host, 7), timeout=30)
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
th = threading.Thread(target=send)
th.start()
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
th.join()
print(len(got), hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest())
`;
