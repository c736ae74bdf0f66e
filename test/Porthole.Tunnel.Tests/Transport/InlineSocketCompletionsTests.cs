using Porthole.Tunnel.Transport;

namespace Porthole.Tunnel.Tests.Transport;

public sealed class InlineSocketCompletionsTests
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    [Fact]
    public void Enable_KeepsAnOperatorsExplicitChoice()
    {
        var original = Environment.GetEnvironmentVariable(Variable);
        try
        {
            Environment.SetEnvironmentVariable(Variable, "0");
            InlineSocketCompletions.Enable();
            Assert.Equal("0", Environment.GetEnvironmentVariable(Variable));

            Environment.SetEnvironmentVariable(Variable, null);
            InlineSocketCompletions.Enable();
            Assert.Equal("1", Environment.GetEnvironmentVariable(Variable));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, original);
        }
    }
}
