using JobWorker.Cli;
using JobWorker.Hosting;

// The stock jobworker: the whole worker with the handlers JobWorker ships (delay, noop), and its command line.
// A team's own host is the same line with its own handlers: see samples/ReportHost.
return await JobWorkerCommand.Create(worker => worker.AddJobWorker().AddBuiltInHandlers()).Parse(args).InvokeAsync();
