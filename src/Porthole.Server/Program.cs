using Porthole.Server.Hosting;

// Before the host starts its threads, each of which may otherwise get a malloc arena of its own (see the type).
MallocArenas.Limit(MallocArenas.Default);

try
{
    var app = ServerHost.Build(args);
    await ServerHost.RunAsync(app);
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException or IOException)
{
    // Configuration mistakes get one line that says what to fix, not a stack trace.
    await Console.Error.WriteLineAsync("porthole-server: " + ex.Message);
    return 1;
}
