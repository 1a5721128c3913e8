// CFS sched_yield: which task runs after a yield.
//
// The format's cfs rule: the ready task with the smallest vruntime runs. A yielding task is ready, so
// when its vruntime is the smallest it is picked again; Linux agrees: CFS's yield only marks the task as
// the skip buddy, and pick_next_entity takes the next task instead only when that task is not more than
// wakeup_gran (1 ms, a tenth of a tick at HZ=100) ahead (kernel/sched/fair.c yield_task_fair,
// pick_next_entity, wakeup_preempt_entity); EEVDF's yield_task_fair pushes the yielder's deadline, and the
// other task is picked only when it is eligible, its vruntime not above the average. On a tie the yielder
// gives way (the skip buddy / the later deadline), so two equal tasks take turns.

extension System {
    /// The yielder `prev` is picked again over `other`, the smallest-vruntime task of the rest (lower pid first).
    func cfsYieldKeepsCPU(_ prev: Int, over other: Int) -> Bool {
        core.tasks[prev].vruntime < core.tasks[other].vruntime
    }
}
