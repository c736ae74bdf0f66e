using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Porthole.Bench.Paths.LeanTls.OpenSslInterop;

namespace Porthole.Bench.Paths.LeanTls;

/// <summary>
/// The bench's reference TLS relay (<c>porthole-bench lean-tls-relay</c>): accepts on one loopback port, dials
/// another, and copies bytes between them, either side optionally TLS. It is as lean as a relay gets — OpenSSL on
/// the sockets with read-ahead, a 128 KiB buffer, one thread per connection that polls both sockets and does every
/// read and write itself — so three of them in series show what the shape of Porthole's wss chain (four TLS passes,
/// three processes) costs on the machine at hand. A measuring instrument, not product code: it verifies no
/// certificate and serves only the bench's loopback targets.
/// </summary>
internal static unsafe class LeanTlsRelay
{
    private const int BufferSize = 128 * 1024;

    /// <summary>Arguments: listen port, listen with TLS (0/1), target port, target with TLS (0/1), PEM with certificate and key.</summary>
    public static int Run(string[] args)
    {
        var listenPort = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
        var acceptTls = args[1] == "1";
        var targetPort = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        var connectTls = args[3] == "1";
        var serverContext = SSL_CTX_new(TLS_server_method());
        if (SSL_CTX_use_certificate_chain_file(serverContext, args[4]) <= 0 || SSL_CTX_use_PrivateKey_file(serverContext, args[4], FileTypePem) <= 0)
        {
            Console.Error.WriteLine("lean-tls-relay: cannot load " + args[4]);
            return 1;
        }

        var clientContext = SSL_CTX_new(TLS_client_method());
        foreach (var context in new[] { serverContext, clientContext })
        {
            SetReadAhead(context);
            SSL_CTX_set_default_read_buffer_len(context, 2 * BufferSize);
        }

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, listenPort));
        listener.Listen(128);
        while (true)
        {
            var accepted = listener.Accept();
            var thread = new Thread(() => Serve(accepted, acceptTls ? serverContext : 0, targetPort, connectTls ? clientContext : 0)) { IsBackground = true };
            thread.Start();
        }
    }

    private static void Serve(Socket accepted, nint acceptContext, int targetPort, nint connectContext)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        Socket? target = null;
        Side? client = null, server = null;
        try
        {
            accepted.NoDelay = true;
            client = Side.Open(accepted, acceptContext, accept: true);
            target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            target.Connect(new IPEndPoint(IPAddress.Loopback, targetPort));
            server = Side.Open(target, connectContext, accept: false);
            accepted.Blocking = false;
            target.Blocking = false;
            var polls = stackalloc PollFd[2];
            while (true)
            {
                var clientReady = client.HoldsUnreadRecords;
                var serverReady = server.HoldsUnreadRecords;
                if (!clientReady && !serverReady)
                {
                    polls[0] = new PollFd { Fd = client.Fd, Events = PollIn };
                    polls[1] = new PollFd { Fd = server.Fd, Events = PollIn };
                    if (Poll(polls, 2, -1) < 0)
                    {
                        return;
                    }

                    (clientReady, serverReady) = (polls[0].Revents != 0, polls[1].Revents != 0);
                }

                if ((clientReady && !Pass(client, server, buffer)) || (serverReady && !Pass(server, client, buffer)))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            // A peer went away or a handshake failed: the connection ends, as a relay's would.
        }
        finally
        {
            client?.Dispose();
            server?.Dispose();
            accepted.Dispose();
            target?.Dispose();
        }
    }

    private static bool Pass(Side from, Side to, byte[] buffer)
    {
        var read = from.Read(buffer);
        return read == 0 || (read > 0 && to.Write(buffer, read));
    }

    /// <summary>One socket of a relayed connection, with its TLS state if it has any.</summary>
    private sealed class Side : IDisposable
    {
        private readonly nint _ssl;

        private Side(int fd, nint ssl)
        {
            Fd = fd;
            _ssl = ssl;
        }

        public int Fd { get; }

        /// <summary>
        /// The last read stopped because the buffer was full, so OpenSSL may hold records already taken off the socket,
        /// which <c>poll</c> cannot see. (Also true before the first read: the handshake's read-ahead may have taken the
        /// first data along.)
        /// </summary>
        public bool HoldsUnreadRecords => _ssl != 0 && _mayHoldRecords && SSL_has_pending(_ssl) != 0;

        private bool _mayHoldRecords = true;

        public static Side Open(Socket socket, nint context, bool accept)
        {
            var fd = (int)socket.Handle;
            if (context == 0)
            {
                return new Side(fd, 0);
            }

            var ssl = SSL_new(context);
            SSL_set_fd(ssl, fd);
            if ((accept ? SSL_accept(ssl) : SSL_connect(ssl)) <= 0)
            {
                SSL_free(ssl);
                throw new IOException("TLS handshake failed");
            }

            return new Side(fd, ssl);
        }

        /// <summary>Bytes read; 0 when nothing is there yet (the socket is non-blocking); −1 at the end.</summary>
        public int Read(byte[] buffer)
        {
            fixed (byte* start = buffer)
            {
                if (_ssl == 0)
                {
                    var received = Receive(Fd, start, buffer.Length, 0);
                    return received > 0 ? (int)received : received < 0 && Marshal.GetLastPInvokeError() == WouldBlock ? 0 : -1;
                }

                var total = 0;
                while (total < buffer.Length)
                {
                    nuint read;
                    var result = SSL_read_ex(_ssl, start + total, (nuint)(buffer.Length - total), &read);
                    if (result > 0)
                    {
                        total += (int)read;
                        continue;
                    }

                    switch (SSL_get_error(_ssl, result))
                    {
                        case ErrorWantRead:
                            _mayHoldRecords = false;
                            return total;
                        case ErrorWantWrite:
                            WaitFor(Fd, PollOut);
                            continue;
                        default:
                            return total > 0 ? total : -1;
                    }
                }

                _mayHoldRecords = true;
                return total;
            }
        }

        /// <summary>Writes all of it, waiting for room as needed; false when the peer has gone.</summary>
        public bool Write(byte[] buffer, int length)
        {
            fixed (byte* start = buffer)
            {
                if (_ssl == 0)
                {
                    for (var offset = 0; offset < length;)
                    {
                        var sent = Send(Fd, start + offset, length - offset, NoSignal);
                        if (sent < 0)
                        {
                            if (Marshal.GetLastPInvokeError() != WouldBlock)
                            {
                                return false;
                            }

                            WaitFor(Fd, PollOut);
                            continue;
                        }

                        offset += (int)sent;
                    }

                    return true;
                }

                while (true)
                {
                    nuint written;
                    var result = SSL_write_ex(_ssl, start, (nuint)length, &written);
                    if (result > 0)
                    {
                        return true;
                    }

                    switch (SSL_get_error(_ssl, result))
                    {
                        case ErrorWantWrite:
                            WaitFor(Fd, PollOut);
                            break;
                        case ErrorWantRead:
                            WaitFor(Fd, PollIn);
                            break;
                        default:
                            return false;
                    }
                }
            }
        }

        public void Dispose()
        {
            if (_ssl != 0)
            {
                SSL_free(_ssl);
            }
        }
    }
}
