namespace Porthole.Tunnel.Frames;

/// <summary>WebSocket frame opcodes (RFC 6455 section 5.2); the reserved ones are refused.</summary>
public enum FrameOpcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}
