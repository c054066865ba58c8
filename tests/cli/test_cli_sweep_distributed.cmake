# CTest driver for sweeps split into shards, merged, and resumed after a kill
# (-DDYNLIB=<dynlib> -DDATA=<tests/cli/data> -DWORK=<dir>): every way of computing a sweep gives the bytes
# of one plain run.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(CLI_TEST_CWD ${WORK})
set(CLI_TEST_TIMEOUT 60)
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)
function(expect_same a b what)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/${a} ${WORK}/${b} RESULT_VARIABLE _d)
  if(NOT _d EQUAL 0)
    message(FATAL_ERROR "${what}: ${a} and ${b} differ")
  endif()
endfunction()

# 1. shards 0/3, 1/3, 2/3 merged (in any order) = one run, for a bifurcation diagram (--record-last) and a
#    2-D Lyapunov map with a failed point in it.
set(bif builtin://map/logistic --param r=2.5:4:61 --N 300 --record-last 4 --quiet)
run_dynlib(o rc sweep ${bif} --out bif.csv)
expect_rc(${rc} 0 "bifurcation" "${o}")
foreach(k 0 1 2)
  run_dynlib(o rc sweep ${bif} --shard ${k}/3 --out bif-${k}.csv --threads 1)
  expect_rc(${rc} 0 "shard ${k}" "${o}")
endforeach()
expect("${o}" "shard 2/3, 21 of 61 points" "shard summary")
file(STRINGS ${WORK}/bif-1.csv rows)
list(GET rows 0 first)
expect("${first}" "^# dynlib sweep shard 1/3: points 20-40 of 61, sweep [0-9a-f]+$" "shard identity line")
run_dynlib(o rc sweep-merge --out bif-merged.csv bif-2.csv bif-0.csv bif-1.csv)
expect_rc(${rc} 0 "merge" "${o}")
expect_same(bif.csv bif-merged.csv "merged shards")

set(lmap builtin://ode/lorenz --param rho=10:40:5 --param sigma=8:12:3 --T 2 --dt 0.01 --lyapunov 1 --quiet)
run_dynlib(o rc sweep ${lmap} --out lmap.csv)
expect_rc(${rc} 0 "lyapunov map" "${o}")
foreach(k 0 1 2)
  run_dynlib(o rc sweep ${lmap} --shard ${k}/3 --out lmap-${k}.csv)
endforeach()
run_dynlib(o rc sweep-merge --out lmap-merged.csv lmap-0.csv lmap-1.csv lmap-2.csv)
expect_same(lmap.csv lmap-merged.csv "merged Lyapunov map")

# A terminal root event: the points it ended name it in the last column (stopped_by), in shards too.
set(ball ${DATA}/root_ball.toml --param g=5:15:7 --T 1 --quiet)
run_dynlib(o rc sweep ${ball} --out ball.csv)
expect_rc(${rc} 0 "terminal events" "${o}")
file(READ ${WORK}/ball.csv text)
expect("${text}" "^g,status,t,h,v,events\\.impact,stopped_by\n5,DONE,1,[^\n]*,1,\n" "stopped_by column, a point that ran to T")
expect("${text}" "\n15,EARLY_EXIT,0\\.912[0-9]*,[^\n]*,3,impact\n$" "stopped_by column, a point its third impact ended")
foreach(k 0 1 2)
  run_dynlib(o rc sweep ${ball} --shard ${k}/3 --out ball-${k}.csv)
  expect_rc(${rc} 0 "terminal events, shard ${k}" "${o}")
endforeach()
run_dynlib(o rc sweep-merge --out ball-merged.csv ball-1.csv ball-0.csv ball-2.csv)
expect_same(ball.csv ball-merged.csv "merged shards with terminal events")

# 2. merge refuses a missing or repeated shard, a shard of another sweep, a cut or changed shard
run_dynlib(o rc sweep-merge --out x.csv bif-0.csv bif-2.csv)
expect_rc(${rc} 1 "missing shard" "${o}")
expect("${o}" "shard 1/3 of sweep [0-9a-f]+ missing \\(the merge needs all 3" "missing shard")
run_dynlib(o rc sweep-merge --out x.csv bif-0.csv bif-1.csv bif-1.csv bif-2.csv)
expect("${o}" "shard 1/3 is given twice: 'bif-1.csv' and 'bif-1.csv'" "repeated shard")
run_dynlib(o rc sweep-merge --out x.csv bif-0.csv lmap-1.csv bif-2.csv)
expect_rc(${rc} 1 "other sweep" "${o}")
expect("${o}" "'lmap-1.csv' is a shard of another sweep than 'bif-0.csv'" "other sweep")
file(READ ${WORK}/bif-1.csv text)
string(SUBSTRING "${text}" 0 500 cut)
file(WRITE ${WORK}/cut-1.csv "${cut}")
run_dynlib(o rc sweep-merge --out x.csv bif-0.csv cut-1.csv bif-2.csv)
expect("${o}" "'cut-1.csv' is not a complete shard of a dynlib sweep" "cut shard")
string(REPLACE "\n3.1," "\n3.2," changed "${text}")
file(WRITE ${WORK}/changed-1.csv "${changed}")
run_dynlib(o rc sweep-merge --out x.csv bif-0.csv changed-1.csv bif-2.csv)
expect("${o}" "'changed-1.csv' was changed after it was written" "changed shard")
run_dynlib(o rc sweep-merge --out x.csv bif.csv)
expect("${o}" "'bif.csv' is not a complete shard of a dynlib sweep \\(its first line is not a shard's identity line\\)"
  "plain CSV")
if(EXISTS ${WORK}/x.csv)
  message(FATAL_ERROR "a refused merge left x.csv behind")
endif()
run_dynlib(o rc sweep ${bif} --shard 3/3 --out x.csv)
expect_rc(${rc} 2 "shard 3/3" "${o}")
expect("${o}" "--shard K/N needs K < N \\(shards are numbered 0 to N-1\\), got '3/3'" "shard 3/3")

# 3. SIGKILL halfway, the same command again: the file of an uninterrupted run; a changed command is refused
set(slow builtin://map/logistic --param r=3:4:120 --N 100000 --threads 1 --block 3 --checkpoint 0 --quiet --out slow.csv)
run_dynlib(o rc sweep ${slow} --out slow-ref.csv)
expect_rc(${rc} 0 "uninterrupted" "${o}")
string(REPLACE ";" " " slow_args "${slow}")
# Kill once a few blocks are on disk (the index has its first line and >= 3 block lines).
execute_process(COMMAND sh -c "'${DYNLIB}' sweep ${slow_args} & pid=$!
  while [ \"$(wc -l < slow.csv.partial.idx 2>/dev/null || echo 0)\" -lt 4 ]; do
    kill -0 $pid 2>/dev/null || exit 3; sleep 0.02; done
  kill -KILL $pid; wait $pid; echo killed=$?" WORKING_DIRECTORY ${WORK} OUTPUT_VARIABLE o RESULT_VARIABLE rc TIMEOUT 60)
expect("${o}" "killed=137" "the sweep was killed (rc ${rc})")
if(EXISTS ${WORK}/slow.csv OR NOT EXISTS ${WORK}/slow.csv.partial OR NOT EXISTS ${WORK}/slow.csv.partial.lock)
  message(FATAL_ERROR "after the kill: no slow.csv yet, its progress and its (dead) lock on disk")
endif()
# A torn last block (a kill in the middle of a write) is dropped and computed again.
file(APPEND ${WORK}/slow.csv.partial "3.9,DONE,1")
file(APPEND ${WORK}/slow.csv.partial.idx "block\t9\t12\t99")
run_dynlib(o rc sweep builtin://map/logistic --param r=3:4:120 --N 100001 --threads 1 --quiet --out slow.csv)
expect_rc(${rc} 1 "changed command" "${o}")
expect("${o}" "'slow.csv' has an unfinished sweep of another command \\(its progress is in 'slow.csv.partial.idx'\\):\n  unfinished: dynlib sweep builtin://map/logistic --param r=3:4:120 --N 100000 [^\n]*\n  this one:   dynlib sweep [^\n]*--N 100001"
  "changed command")
run_dynlib(o rc sweep ${slow})
expect_rc(${rc} 0 "resumed" "${o}")
expect("${o}" "120 points \\(120 x 1\\), [1-9][0-9]* done before on 1 threads" "resumed summary")
expect_same(slow.csv slow-ref.csv "resumed after SIGKILL")
if(EXISTS ${WORK}/slow.csv.partial OR EXISTS ${WORK}/slow.csv.partial.idx OR EXISTS ${WORK}/slow.csv.partial.lock)
  message(FATAL_ERROR "the progress files are left behind after the sweep finished")
endif()

# 4. A second sweep on a file that a running sweep writes is refused at once (the same command or
#    another), naming the file and the writer, and leaves the running sweep's files alone. The first
#    sweep is held (SIGSTOP) while the others try, so it is surely still running.
file(REMOVE ${WORK}/slow.csv)
execute_process(COMMAND sh -c "'${DYNLIB}' sweep ${slow_args} & pid=$!
  while [ \"$(wc -l < slow.csv.partial.idx 2>/dev/null || echo 0)\" -lt 3 ]; do
    kill -0 $pid 2>/dev/null || exit 3; sleep 0.02; done
  kill -STOP $pid; echo first=$pid
  '${DYNLIB}' sweep ${slow_args}; echo same=$?
  '${DYNLIB}' sweep builtin://map/logistic --param r=3:4:120 --N 7 --quiet --out slow.csv; echo other=$?
  kill -CONT $pid; wait $pid; echo first_rc=$?" WORKING_DIRECTORY ${WORK} OUTPUT_VARIABLE o ERROR_VARIABLE e
  RESULT_VARIABLE rc TIMEOUT 60)
string(REGEX MATCH "first=([0-9]+)" _ "${o}")
set(first_pid ${CMAKE_MATCH_1})
expect("${o}" "same=1\nother=1\nsweep: 120 points \\(120 x 1\\) on 1 threads[^\n]*\nfirst_rc=0" "second sweeps refused, the first completed (rc ${rc}): ${e}")
expect("${e}" "'slow.csv' is being written by another sweep \\(process ${first_pid} on [^,]+, which holds 'slow.csv.partial.lock'\\)\\. Wait for it to end, or stop it; then run its command again to complete it\\."
  "refusal")
string(REGEX MATCHALL "'slow.csv' is being written by another sweep \\(process ${first_pid} " refusals "${e}")
list(LENGTH refusals n)
if(NOT n EQUAL 2)
  message(FATAL_ERROR "expected two refusals naming slow.csv and process ${first_pid}:\n${e}")
endif()
expect_same(slow.csv slow-ref.csv "the first sweep, after two others tried its file")
if(EXISTS ${WORK}/slow.csv.partial.lock)
  message(FATAL_ERROR "the lock file is left behind after the sweep finished")
endif()
# A damaged record is refused, not trusted.
file(WRITE ${WORK}/bad.csv.partial.idx "dynlib-sweep-journal\t1\tgarbage\n")
run_dynlib(o rc sweep ${bif} --out bad.csv)
expect_rc(${rc} 1 "damaged record" "${o}")
expect("${o}" "'bad.csv.partial.idx' is not the record of a dynlib sweep in progress, or it is damaged" "damaged record")
