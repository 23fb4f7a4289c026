using JobWorker.Cli;

return await JobWorkerCommand.Create().Parse(args).InvokeAsync();
