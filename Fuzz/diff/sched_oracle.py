"""An independent model of ringspec's kernel scheduler, written from the text of
shared/spec/scenario-format.md ("Scheduling rules (so that every schedule is determined)",
the `kernel`, `processes`, `steps` and `expect` tables) and docs/kernel-model.md ("Scheduling
choices", "System calls"), not from the engine's Swift code.

Rules (each quoted or paraphrased from the spec; "KM" = docs/kernel-model.md):
- SCHED-Q: the run queue is an ordered list of ready tasks; a task that becomes ready (fork,
  wake-up, timer preemption, yield) joins its tail; the initial ready tasks are queued in the
  order they are listed. A dispatched task starts a fresh slice.
- SCHED-TICK: a tick is charged to the running task (never to idle); sleeping tasks' timeouts
  count down on every tick (a task whose timeout reaches 0 wakes in the handler, before the
  schedule() on the return from the interrupt queues the preempted task; several wake in the
  order their sleeps began, KM).
- SCHED-RR: after `timeslice` ticks the running task goes to the tail and the head runs; alone,
  it continues with a fresh slice.
- SCHED-FIFO: the timer never preempts.
- SCHED-PRIO: the most important ready task runs (larger number); equal levels round robin; a
  task woken with a higher priority than the running one preempts it at the end of the interrupt
  or system call, reason `wakeup`, and the preempted task keeps the head of its level and the
  rest of its slice. A yielding task goes to the tail of its level.
- SCHED-CFS: smallest vruntime runs (ties: lower pid); a tick adds 1024/weight(nice); a woken or
  new task starts at max(its vruntime, min_vruntime: the smallest vruntime among the queue and
  the current task, kept while idle runs (KM)); preemption when running - smallest > the running task's own per-tick delta (KM);
  exact arithmetic (KM); a yielding task is ready, so it runs again when its vruntime is the
  smallest, and gives way to the smallest other on a tie (KM; Linux's skip buddy / EEVDF).
- KM: `preempt: false` turns off timer and wakeup preemption; an explicit `schedule` keeps the
  current task at the head of the queue and a switch it causes has the reason `yield`; the idle
  task is preempted by any wakeup (reason `wakeup`).
- Processes (KM): fork names the child PARENT-child, -child2, ...; the child joins the tail and
  the parent keeps running; exit keeps code & 0xff, wakes a waiting parent, orphans go to pid 1
  (and a pid 1 blocked in wait4(-1) is woken by an orphan that is already a zombie); wait4 reaps
  (a reaped task stays `zombie`); a wait4 woken by an exit reaps when the waiter next runs (or is
  killed), the first zombie of its children list (fork order, orphans at the tail: kernel/exit.c
  do_wait), so until then kill still finds the zombie; kill kills with the signal except SIGCHLD/SIGCONT (ignored)
  and except pid 1, init, which ignores every signal (SIGNAL_UNKILLABLE: returns 0),
  a not-reaped zombie accepts a signal with no effect (0), a reaped one or an unknown pid gives
  -ESRCH; an `irq` waking a task in nanosleep or wait4 ends the call with -EINTR.
"""
from fractions import Fraction

# Linux's sched_prio_to_weight, nice -20 .. 19.
NICE_WEIGHTS = [
    88761, 71755, 56483, 46273, 36291,
    29154, 23254, 18705, 14949, 11916,
    9548, 7620, 6100, 4904, 3906,
    3121, 2501, 1991, 1586, 1277,
    1024, 820, 655, 526, 423,
    335, 272, 215, 172, 137,
    110, 87, 70, 56, 45,
    36, 29, 23, 18, 15,
]

ECHILD = -10
ESRCH = -3
EINTR = -4
SIGCHLD = 17
SIGCONT = 18

IDLE = "idle"


def weight(nice):
    return NICE_WEIGHTS[nice + 20]


class Task:
    def __init__(self, name, pid, parent, state, priority=0, nice=0):
        self.name = name
        self.pid = pid
        self.parent = parent          # name or None
        self.state = state            # running ready sleeping blocked zombie
        self.priority = priority
        self.nice = nice
        self.ticks = 0
        self.exit_code = None
        self.signal = None
        self.reaped = False
        self.vruntime = Fraction(0)
        self.sleep_left = None        # nanosleep ticks left
        self.sleep_armed = 0          # when that nanosleep began (same-tick wake order)
        self.waiting = None           # wait4 pid argument while blocked in wait4
        self.forks = 0
        self.slice_used = 0
        self.ret = None
        self.pending_wait = None      # a wait4 woken by a child's exit, completed at the next dispatch
        self.joined = 0               # place in the parent's children list (fork order, orphans at the tail)
        self.resume = None            # RAX when it next returns to user mode, if known
        self.keep_slice = False       # preempted by a wakeup (SCHED-PRIO)

    def delta(self):
        return Fraction(1024, weight(self.nice))


class Oracle:
    def __init__(self, policy, timeslice=3, preempt=True):
        self.policy = policy
        self.timeslice = timeslice
        self.preempt = preempt
        self.tasks = []               # creation order
        self.by_name = {}
        self.queue = []               # ready task names, in order
        self.current = IDLE
        self.schedule_list = []
        self.switches = []            # switches of the step being run
        self.need_wakeup_resched = False
        self.resumed = None           # (name, RAX) of the task dispatched last, when known
        self.schedule_calls = []      # reasons of the schedule() calls of the step being run
        self.min_vr = Fraction(0)     # cfs: min_vruntime as of the last schedule()
        self.sleeps_armed = 0         # nanosleeps begun so far (Task.sleep_armed)

    # ---- setup -------------------------------------------------------------------------
    def add(self, task):
        self.join_seq = getattr(self, "join_seq", 0) + 1
        task.joined = self.join_seq
        self.tasks.append(task)
        self.by_name[task.name] = task

    def start(self):
        running = [t for t in self.tasks if t.state == "running"]
        for t in self.tasks:
            if t.state == "ready":
                self.queue.append(t.name)
        if running:
            self.current = running[0].name
        elif self.queue:
            # "or none: the first ready one is picked"
            first = self.queue.pop(0)
            self.by_name[first].state = "running"
            self.current = first
        else:
            self.current = IDLE
        self.schedule_list.append(self.current)

    def task(self, name):
        return self.by_name[name]

    def cur(self):
        return None if self.current == IDLE else self.by_name[self.current]

    # ---- choosing --------------------------------------------------------------------------
    def pick_from(self, names):
        if self.policy in ("fifo", "rr"):
            return names[0]
        if self.policy == "priority":
            best = max(self.task(n).priority for n in names)
            return next(n for n in names if self.task(n).priority == best)
        return min(names, key=lambda n: (self.task(n).vruntime, self.task(n).pid))

    def min_vruntime(self):
        vs = [self.task(n).vruntime for n in self.queue]
        if self.cur() is not None:
            vs.append(self.cur().vruntime)
        return max(self.min_vr, min(vs)) if vs else self.min_vr

    def min_queued_vruntime(self):
        return min(self.task(n).vruntime for n in self.queue)

    def dispatch(self, nxt, reason):
        prev = self.current
        if nxt != IDLE:
            t = self.task(nxt)
            t.state = "running"
            if nxt == prev:
                # ENGINE-CHOICE (Linux's yield_task_rt): a task that yields or calls schedule()
                # and is picked again keeps what is left of its slice.
                pass
            elif t.keep_slice:
                t.keep_slice = False
            else:
                t.slice_used = 0
        if nxt != prev:
            self.resumed = None
            if nxt != IDLE:
                t = self.task(nxt)
                self.complete_pending_wait(t)
                self.resumed = (nxt, t.resume) if isinstance(t.resume, int) else None
                t.resume = None
            self.switches.append((prev, nxt, reason))
            self.schedule_list.append(nxt)
        self.current = nxt
        self.need_wakeup_resched = False

    def schedule(self, reason, requeue=None):
        """schedule(). requeue: None (prev is no longer runnable), 'tail', 'head'."""
        self.schedule_calls.append(reason)
        if self.policy == "cfs":
            self.min_vr = self.min_vruntime()
        prev = self.cur()
        if prev is not None and requeue is not None:
            prev.state = "ready"
            if requeue == "tail":
                self.queue.append(prev.name)
            else:
                self.queue.insert(0, prev.name)
        if not self.queue:
            self.dispatch(IDLE, reason)
            return
        nxt = self.pick_from(self.queue)
        self.queue.remove(nxt)
        self.dispatch(nxt, reason)

    # ---- wake-ups -----------------------------------------------------------------------------
    def wake(self, t):
        if t.resume == "pending":
            t.resume = t.ret
        t.state = "ready"
        t.sleep_left = None
        t.waiting = None
        if self.policy == "cfs":
            # KM: min_vruntime is the smallest of the queue and the current task, which counts
            # until schedule() takes it off the CPU (a parent woken by its child's exit or kill
            # included), and never goes back: while idle runs it keeps its last value.
            t.vruntime = max(t.vruntime, self.min_vruntime())
        self.queue.append(t.name)
        self.check_wakeup_preempt(t)

    def check_wakeup_preempt(self, t):
        c = self.cur()
        if c is None:
            self.need_wakeup_resched = True
            return
        if not self.preempt:
            return
        if self.policy == "priority" and t.priority > c.priority:
            self.need_wakeup_resched = True
        elif self.policy == "cfs" and c.vruntime - t.vruntime > c.delta():
            # ENGINE-CHOICE: a wake-up compares the running task with the woken one (Linux's
            # check_preempt_wakeup), not with the smallest of the whole queue.
            self.need_wakeup_resched = True

    def resched_on_return(self):
        """The end of an interrupt or system call: a pending wakeup preemption."""
        if self.need_wakeup_resched:
            c = self.cur()
            head = c is not None and self.policy == "priority" and c.slice_used < self.timeslice
            if head:
                c.keep_slice = True
            self.schedule("wakeup", requeue="head" if head else "tail")
            if c is not None and self.current == c.name:
                c.keep_slice = False
            self.need_wakeup_resched = False

    # ---- events --------------------------------------------------------------------------------
    def tick(self):
        c = self.cur()
        if c is not None:
            c.resume = None           # preempted in user mode: RAX is whatever it was
        if c is not None:
            c.ticks += 1
            c.slice_used += 1
            if self.policy == "cfs":
                c.vruntime += c.delta()
        expired = []
        for t in self.tasks:
            if t.state == "sleeping" and t.sleep_left is not None:
                t.sleep_left -= 1
                if t.sleep_left <= 0:
                    expired.append(t)
        # KM: timeouts ending on one tick wake in the order the sleeps began (hrtimers expire in
        # deadline order: kernel/time/hrtimer.c __hrtimer_run_queues, lib/timerqueue.c).
        for t in sorted(expired, key=lambda t: t.sleep_armed):
            t.ret = 0
            self.wake(t)
        c = self.cur()
        timer = False
        if c is not None and self.preempt:
            if self.policy in ("rr", "priority") and c.slice_used >= self.timeslice:
                timer = True
            if self.policy == "cfs" and self.queue and c.vruntime - self.min_queued_vruntime() > c.delta():
                timer = True
        if self.need_wakeup_resched:
            # ENGINE-CHOICE: a tick that both ends the slice and wakes a task that preempts is
            # recorded with the reason `wakeup`; the preempted task keeps the head of its level
            # only when it has some of its slice left.
            self.resched_on_return()
        elif timer:
            self.schedule("timer", requeue="tail")
            if self.current == c.name:
                c.slice_used = 0

    def irq(self, wakes=None):
        if self.cur() is not None:
            self.cur().resume = None
        if wakes is not None:
            t = self.task(wakes)
            if t.state in ("sleeping", "blocked"):   # try_to_wake_up of a task that is not asleep: nothing
                self.wake(t)
        self.resched_on_return()

    def irq_many(self, wakes):
        """One interrupt (merged requests) that wakes several tasks, in the order requested."""
        if self.cur() is not None:
            self.cur().resume = None
        for w in wakes:
            t = self.task(w)
            if t.state in ("sleeping", "blocked"):
                self.wake(t)
        self.resched_on_return()

    def explicit_schedule(self):
        if self.cur() is None:
            if self.queue:
                self.schedule("wakeup")
            return
        self.schedule("yield", requeue="head")

    def sched_yield(self):
        c = self.cur()
        if self.policy == "cfs":
            others = list(self.queue)
            if not others:
                return 0
            nxt = self.pick_from(others)
            if c.vruntime < self.task(nxt).vruntime:
                # SCHED-CFS-YIELD: the yielder is the ready task with the smallest vruntime: it runs
                # again (Linux: CFS's skip buddy is passed over when the next task is more than
                # wakeup_gran ahead; EEVDF picks only eligible tasks). It loses a tie.
                self.min_vr = self.min_vruntime()
                return 0
            self.queue.remove(nxt)
            c.state = "ready"
            self.queue.append(c.name)
            self.dispatch(nxt, "yield")
            return 0
        self.schedule("yield", requeue="tail")
        return 0

    def nanosleep(self, n):
        """KM: a first argument below 4096 is a tick count; no time at all returns 0 at once."""
        if n <= 0:
            return 0
        c = self.cur()
        c.state = "sleeping"
        c.resume = "pending"
        c.sleep_left = n
        self.sleeps_armed += 1
        c.sleep_armed = self.sleeps_armed
        self.schedule("blocking")

    def getpid(self):
        return self.cur().pid

    def getppid(self):
        """The parent's pid; 0 for a task without one (declared without `parent`, or orphaned when
        there was no pid 1 left to adopt it)."""
        c = self.cur()
        return 0 if c.parent is None else self.task(c.parent).pid

    def child_name(self, parent):
        parent.forks += 1
        return parent.name + "-child" + ("" if parent.forks == 1 else str(parent.forks))

    def fork(self):
        c = self.cur()
        pid = max(t.pid for t in self.tasks) + 1
        child = Task(self.child_name(c), pid, c.name, "ready", c.priority, c.nice)
        child.resume = 0              # the child's fork returns 0
        child.vruntime = c.vruntime   # ENGINE-CHOICE: the child inherits its parent's vruntime (Linux's sched_fork)
        self.add(child)
        child.state = "sleeping"  # not yet ready, for wake()
        self.wake(child)
        self.resched_on_return()
        return pid

    def children(self, t):
        return sorted((c for c in self.tasks if c.parent == t.name and not c.reaped), key=lambda c: c.joined)

    def complete_pending_wait(self, t):
        """do_wait after schedule(): the waiter reaps the first zombie of its children list."""
        if t.pending_wait is None:
            return
        pid, t.pending_wait = t.pending_wait, None
        k = next((k for k in self.children(t) if self.matches(k, pid) and k.state == "zombie"), None)
        if k is not None:
            k.reaped = True
            t.resume = k.pid

    def matches(self, child, pid):
        # pid 0: any child of the caller's process group, and every task here is in one group
        return pid in (-1, 0) or child.pid == pid

    def wait4(self, pid, nohang=False):
        c = self.cur()
        kids = [k for k in self.children(c) if self.matches(k, pid)]
        if not kids:
            return ECHILD
        for k in kids:
            if k.state == "zombie":
                k.reaped = True
                return k.pid
        if nohang:                    # WNOHANG: children, none of them a zombie yet
            return 0
        c.state = "blocked"
        c.resume = "pending"
        c.waiting = pid
        self.schedule("blocking")
        return None

    def become_zombie(self, t):
        """t exits or is killed: reparent its children, wake its waiting parent."""
        self.complete_pending_wait(t)   # a woken waiter killed before it ran reaps first
        if t.name in self.queue:
            self.queue.remove(t.name)
        t.state = "zombie"
        t.sleep_left = None
        t.waiting = None
        # The parent is notified before the orphans are handed to pid 1 (Linux's exit_notify
        # wakes the parent's wait4, which reaps when it runs: complete_pending_wait).
        if t.parent is not None:
            p = self.task(t.parent)
            if p.state == "blocked" and p.waiting is not None and self.matches(t, p.waiting):
                self.wake_waiter(p)
        init = next((x for x in self.tasks if x.pid == 1), None)
        if init is not None and init.state == "zombie":
            init = None               # ENGINE-CHOICE: no living init: orphans have no parent (getppid 0)
        for k in self.children(t):
            k.parent = init.name if init is not None and init is not t else None
            self.join_seq += 1
            k.joined = self.join_seq
            if init is not None and init is not t and k.state == "zombie" \
                    and init.state == "blocked" and init.waiting in (-1, 0):
                self.wake_waiter(init)

    def wake_waiter(self, p):
        p.pending_wait = p.waiting
        p.ret = None
        self.wake(p)

    def exit(self, code):
        c = self.cur()
        c.exit_code = code & 0xFF
        self.become_zombie(c)
        self.schedule("exit")

    def kill(self, pid, sig):
        target = next((x for x in self.tasks if x.pid == pid), None)
        if target is None or target.reaped:
            return ESRCH
        if target.state == "zombie" or sig in (0, SIGCHLD, SIGCONT):
            return 0
        if target.pid == 1:
            return 0                  # init is SIGNAL_UNKILLABLE: sig_task_ignored drops every SIG_DFL signal
        target.signal = sig
        if target is self.cur():
            self.become_zombie(target)
            self.schedule("signal")
            return None
        self.become_zombie(target)
        self.resched_on_return()
        return 0

    # ---- checks ---------------------------------------------------------------------------
    def states(self):
        return {t.name: t.state for t in self.tasks}

    def task_by_pid(self, pid):
        return next((t for t in self.tasks if t.pid == pid), None)
