using Xunit.Abstractions;

namespace Porthole.FunctionalTests;

/// <summary>
/// The server on Kestrel's transport (<c>Porthole:Transport=Kestrel</c>): what the default falls back to off Linux
/// x86-64, on a host name, or with <c>Kestrel:Endpoints</c> configured, and what an operator can choose.
/// </summary>
public sealed class KestrelTransportTests(ITestOutputHelper output) : TransportTests("Kestrel", output);
