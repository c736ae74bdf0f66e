using Porthole.Fuzz;
using SharpFuzz;

// AFL++ (default): afl-fuzz -i corpus -o findings -t 5000 -m none -- ./Porthole.Fuzz
// libFuzzer:       Porthole.Fuzz --libfuzzer (through SharpFuzz's libfuzzer-dotnet driver)
// Both need the Porthole.Protocol assembly instrumented first with the sharpfuzz tool; see docs/operations/security.md.
if (args.Contains("--libfuzzer"))
{
    Fuzzer.LibFuzzer.Run(span => ControlCodecTarget.Run(span));
}
else
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        ControlCodecTarget.Run(buffer.ToArray());
    });
}
